"""normalize: turns what provinces write into canonical records analysts can add up."""
