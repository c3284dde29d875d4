"""What the three services share at run time: the Kafka batch loop, output producer, HTTP
health/metrics endpoints, lag monitoring and logging. Depends on FastStream; `cchc_shared` does not.
"""
