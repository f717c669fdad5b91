"""cmtui: a terminal social inbox for community managers."""

__version__ = "0.1.0"
