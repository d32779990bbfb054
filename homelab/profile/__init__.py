"""Host profiles: loading YAML with positions, includes, validation and the model."""
