"""Multi-object tracking of people: Kalman motion plus ReID appearance, per camera.

`tracker.Tracker` is the entry point; `gallery.Gallery` remembers people whose tracks ended
so they get their identity back when they return (optionally across cameras of a device).
"""
