/** `node dist/main.js` starts the gateway with routes.yaml (or $ROUTES_FILE). */
import { startGateway } from './cli/start';

void startGateway();
