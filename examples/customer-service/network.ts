/**
 * The seed's multi-specialist network: a customer-service router that hands off to technical
 * support, sales or billing.
 */
import { defineAgent, defineNetwork } from '@handoff/core';

const model = process.env.HANDOFF_MODEL ?? 'gpt-4.1-mini';

export const techSupport = defineAgent({
  name: 'TechSupport',
  description: 'Use for technical support and troubleshooting questions',
  model,
  instructions: `You are a technical support specialist. Help users with:
- Software issues and bugs
- System configuration problems
- Performance optimization
- Installation and setup guidance`,
});

export const sales = defineAgent({
  name: 'Sales',
  description: 'Use for sales inquiries, pricing, and product information',
  model,
  instructions: `You are a sales representative. Help customers with:
- Product information and features
- Pricing and quotes
- Comparisons with competitors
- Purchase decisions`,
});

export const billing = defineAgent({
  name: 'Billing',
  description: 'Use for billing, payments, and account questions',
  model,
  instructions: `You are a billing specialist. Help customers with:
- Invoice questions
- Payment processing
- Account management
- Refunds and credits`,
});

export const customerService = defineAgent({
  name: 'CustomerService',
  description: 'Primary customer service agent that routes to specialists',
  model,
  instructions: `You are the primary customer service agent. Determine what the customer needs
and either help them directly or hand off to the appropriate specialist.`,
  handoffs: ['TechSupport', 'Sales', 'Billing'],
});

export default defineNetwork({
  name: 'customer-service',
  agents: [customerService, techSupport, sales, billing],
  entry: 'CustomerService',
});
