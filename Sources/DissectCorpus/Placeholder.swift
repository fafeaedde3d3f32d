enum DissectCorpusPlaceholder {}
