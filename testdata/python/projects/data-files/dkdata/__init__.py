NAME = "dk-data-files"
