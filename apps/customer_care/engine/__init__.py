"""Plain Python for the care desk: business-hours arithmetic and mail parsing (no Django)."""
