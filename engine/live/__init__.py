"""The live core: what happens on the floor, as it happens, for the wallboard, MQTT and Prometheus."""
