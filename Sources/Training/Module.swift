// The Training module: see README.md.
