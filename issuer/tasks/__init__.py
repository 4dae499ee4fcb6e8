"""Background work: the task-queue port, its two queues, the tasks and their schedule.

``names`` (task names, the schedule, the queue setting), ``queue`` (the port and the in-process
queue), ``pg_queue`` (PostgreSQL with procrastinate, and ``microcred worker``), ``handlers``
(what each task does), ``periodic`` (the schedule inside ``microcred serve``), ``factory`` (the
queue an installation's settings ask for). docs/architecture.md, "Background work", says why.
"""
