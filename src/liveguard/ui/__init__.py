"""The Textual control room. Talks to liveguard only through liveguard.service."""
