/** A module that fails while loading: a worker entry (as a missing build or broken install would), or a preloaded task module. */
throw new Error('this worker cannot start')
