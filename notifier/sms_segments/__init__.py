"""SMS text: GSM-7 / UCS-2 encoding, segment counts and Romanian transliteration."""
