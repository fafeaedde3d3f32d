enum DissectModelPlaceholder {}
