// The Comparison module: see README.md.
