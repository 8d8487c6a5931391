"""The package version, kept in the bottom layer so that any layer can read it without importing the package root."""

VERSION = "0.1.0"
