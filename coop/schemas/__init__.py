"""Marshmallow schemas: one set validates both the web forms and the JSON API."""
