FROM = "dk-clash-a"
