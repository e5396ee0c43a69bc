// The LimitTheory module: see README.md.
