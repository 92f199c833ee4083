"""memlab: memory-augmented neural networks (NTM, DNC), exact to the papers."""
