"""Offline evaluation: tracking (MOTA, IDF1, ID switches) and ReID (mAP, CMC)."""
