"""The command line: parse input, call services, show output. Nothing else."""
