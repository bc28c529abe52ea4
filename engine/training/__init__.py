"""Training and evaluation of the bundled yeast demo model (see MODEL_CARD.md beside it)."""
