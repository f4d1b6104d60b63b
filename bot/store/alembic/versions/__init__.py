"""The revisions, one file each, oldest first by their number; never edited once released."""
