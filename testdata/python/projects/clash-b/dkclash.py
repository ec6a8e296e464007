FROM = "dk-clash-b"
