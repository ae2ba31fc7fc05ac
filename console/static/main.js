// gridcrm console: starts the router once core.js and every page have loaded.
'use strict';
window.GC.start();
