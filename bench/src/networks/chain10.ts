/** The 10-agent chain for benchmark processes; the model endpoint comes from OPENAI_BASE_URL. */
import { chainNetwork } from '../chain-script.js';

export default chainNetwork(10);
