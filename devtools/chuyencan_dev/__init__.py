"""Development tools kept out of the shipped package and the image: the sample-data generator
(`python -m chuyencan_dev.synth`) and the loopback mail sink (`python -m chuyencan_dev.mail_sink`).
"""
