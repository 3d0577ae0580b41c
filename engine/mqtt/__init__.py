"""MQTT out: the live bus's states and call events published to a broker (``[mqtt]`` in the site file)."""
