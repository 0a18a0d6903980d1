"""The change journal: logical decoding of the order system into encrypted segments."""
