// A small integrator backend: it starts an identity check and tells the user where it stands.
import express from 'express';
import { TruoraClient, TruoraError } from './truora-client.js';

const MESSAGES = {
  similarity_threshold_not_passed: 'The selfie does not match the ID photo.',
  identity_belongs_to_dead_person: 'This ID belongs to a deceased person.',
};

export function createApp(truora = new TruoraClient({
  baseUrl: process.env.TRUORA_URL || 'https://api.validations.truora.com',
  apiKey: process.env.TRUORA_API_KEY,
})) {
  const app = express();
  app.use(express.json());

  app.post('/checks', async (req, res) => {
    const userId = req.body?.user_id;
    if (!userId) return res.status(400).json({ error: 'user_id is required' });
    try {
      res.status(201).json({ check_id: await truora.create(String(userId)) });
    } catch (e) {
      if (!(e instanceof TruoraError)) throw e;
      res.status(502).json({ error: 'identity provider unavailable', status: e.status });
    }
  });

  app.get('/checks/:id', async (req, res) => {
    let v;
    try {
      v = await truora.get(req.params.id);
    } catch (e) {
      if (!(e instanceof TruoraError)) throw e;
      return res.status(502).json({ error: 'identity provider unavailable', status: e.status });
    }
    const answer = { check_id: v.validationId };
    if (v.status === 'pending') answer.state = 'in_progress';
    else if (v.status === 'success') answer.state = 'approved';
    else if (v.failureStatus === 'declined') {
      answer.state = 'rejected';
      answer.reason = MESSAGES[v.declinedReason] || 'The check was declined.';
    } else answer.state = 'retry';
    res.json(answer);
  });

  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  createApp().listen(Number(process.env.PORT) || 3000);
}
