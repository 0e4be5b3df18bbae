"""Model providers: one module per technology, each implementing the provider ports."""
