"""Pure intake logic: parsing, validation and normalisation; imports no I/O."""
