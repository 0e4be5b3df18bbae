"""PromptCanvas: keep every generative-AI prompt with everything it produced."""

__version__ = "0.1.0"
