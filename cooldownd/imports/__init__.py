"""Imports: files, folders and archives read in memory, decoded on several cores, recorded in order."""
