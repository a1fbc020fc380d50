"""One run: the inbox, each file's fate, the warehouse, publishing, confirmation and feedback."""
