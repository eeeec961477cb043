"""The foundations every layer may use: money, text, numerals, the clock, errors, and the Flask extensions."""
