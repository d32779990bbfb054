"""Editing profiles without a terminal attached: the session an editor holds (each open
profile's text, saved or not, checked and saved through the lab) and its drafts."""
