"""The demo: sample clip, private broker, stand-in models, a subscriber and a picture."""
