"""Matching: from the hashes of an upload and the hits of the index to a verdict a platform can act on.

``stanch.matching.video`` holds the video rule (runs of frames in time order), the rest the image and
digest rules and the engine that applies them to the banks.
"""
