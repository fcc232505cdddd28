"""Expression editing: move each face toward a target expression by a dense, masked warp."""
