"""Human-part segmentation on person crops: selection, mapping back to the frame, rendering."""
