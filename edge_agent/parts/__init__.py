"""Human-part segmentation on person crops: crop selection, decoding back to the frame, rendering."""
