"""Pylon's own Python modules, served by its capability components ("caps")."""
