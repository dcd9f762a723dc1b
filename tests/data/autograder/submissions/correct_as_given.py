from base_correct import *  # noqa: F401,F403
