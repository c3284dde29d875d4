"""What every service shares at run time: the stream processor that owns the batch life cycle
(consume contiguously, run the step, produce durably, dead-letter, commit), the seam a step
implements (`stage.py`), HTTP health and metrics, lag monitoring and logging.

Built on aiokafka directly (`consumer.py` says why); `cchc_shared` depends on none of it.
"""
