/** A worker entry that fails while loading, as a missing build or broken install would. */
throw new Error('this worker cannot start')
