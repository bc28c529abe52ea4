"""One adapter per architecture, all speaking the contract in base.py."""
