/** Serves the Lambda handler on localhost: each HTTP request becomes a Function URL (v2) event. */
import { createServer, type Server } from 'node:http';

export async function serve(port = Number(process.env.PORT ?? 3000), host = '127.0.0.1'): Promise<Server> {
  const { handler, MAX_BODY_BYTES, payloadTooLarge } = await import('./handler.js');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      // Past the limit the handler would refuse it anyway: answer now instead of buffering it all.
      if (size > MAX_BODY_BYTES) {
        refused = true;
        const response = payloadTooLarge();
        res.writeHead(response.statusCode, { ...response.headers, connection: 'close' });
        res.end(response.body);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', async () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      const event = {
        version: '2.0',
        rawPath: req.url ?? '/',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
        requestContext: { http: { method: req.method ?? 'GET', path: req.url ?? '/' } },
        body: body.toString('base64'),
        isBase64Encoded: true,
      };
      const response = (await handler(event)) as { statusCode: number; headers: Record<string, string>; body: string };
      res.writeHead(response.statusCode, response.headers);
      res.end(response.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}
