import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';

// No @UseGuards: on NestJS 11 nothing checks this handler, and VoxKey's start-up audit warns
// about OpenGateway.ping.
@WebSocketGateway()
export class OpenGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}
