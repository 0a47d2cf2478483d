"""Published flows: the versions, which version is current, and the ratings families give."""
