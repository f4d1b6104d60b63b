"""The learned understanding: linear models over character n-grams, scored in plain Python."""
