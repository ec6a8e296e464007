#!/usr/bin/env python3
print("an executable module")
