"""Training mode: csbot plays a buyer persona, a trainee answers, and the grader scores each reply.

The simulated buyer is agenda-based and fully deterministic (no language model): personas
live in ``dialogs/personas/*.yaml`` and the rubric in ``dialogs/rubric.yaml``.
"""

# Bumped when the simulator or grader changes in a way that changes transcripts or scores.
TRAINING_VERSION = "1"
